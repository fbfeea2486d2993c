/**
 * The JSON schema of a plugin's `manifest.json`, part of the host contract: a host validates a
 * manifest against it (with ajv) before it loads anything of the plugin.
 */
export interface PluginManifest {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** The semver range of `HOST_API_VERSION` the plugin was built for. */
  readonly hostApi: string;
  /** The module (relative to the manifest) whose default export is a `PluginFactory`. */
  readonly entry: string;
  readonly licence?: string;
  readonly settings: readonly {
    readonly id: string;
    readonly section: string;
    readonly labelKey: string;
    readonly path: string;
    readonly adminOnly: boolean;
  }[];
  readonly mount: { readonly portal: string; readonly settings: string };
  readonly migrations: string;
  readonly locales: string;
  readonly templates: string;
}

const localPath = { type: 'string', pattern: '^/[a-z0-9][a-z0-9/_-]*$', maxLength: 200 } as const;
const relativeFolder = { type: 'string', pattern: '^(?!/)(?!.*\\.\\.)[A-Za-z0-9._/-]+$', maxLength: 200 } as const;

export const manifestSchema = {
  $id: 'https://business-portal.invalid/manifest.schema.json',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'version', 'description', 'hostApi', 'entry', 'settings', 'mount', 'migrations', 'locales', 'templates'],
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,63}$' },
    name: { type: 'string', minLength: 1, maxLength: 100 },
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?$' },
    description: { type: 'string', maxLength: 1000 },
    hostApi: { type: 'string', minLength: 1, maxLength: 100 },
    entry: relativeFolder,
    licence: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
    settings: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'section', 'labelKey', 'path', 'adminOnly'],
        properties: {
          id: { type: 'string', pattern: '^[a-z][a-z0-9.-]*$' },
          section: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
          labelKey: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9.]*$' },
          path: localPath,
          adminOnly: { type: 'boolean' },
        },
      },
    },
    mount: {
      type: 'object',
      additionalProperties: false,
      required: ['portal', 'settings'],
      properties: { portal: localPath, settings: localPath },
    },
    migrations: relativeFolder,
    locales: relativeFolder,
    templates: relativeFolder,
  },
} as const;
