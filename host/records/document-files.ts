/**
 * The bytes of Documents records: files under the host's files folder, named by a random key
 * (never by the client's file name), outside any web root.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const KEY = /^[a-f0-9]{32}$/;

/** A client's file name made safe to keep and show: no folders, no control characters, bounded. */
export function safeFileName(name: string): string {
  const base = String(name).split(/[/\\]/).pop() ?? '';
  const cleaned = base
    .replace(/[\u0000-\u001f\u007f-\u009f"<>|:*?]/g, '')
    .trim()
    .replace(/^\.+/, '');
  return [...cleaned].slice(0, 200).join('') || 'file';
}

export class DocumentFiles {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  newKey(): string {
    return randomBytes(16).toString('hex');
  }

  /** The path of a stored file; null for anything that is not a key this class generated. */
  pathOf(key: unknown): string | null {
    return typeof key === 'string' && KEY.test(key) ? join(this.dir, key) : null;
  }

  /** Writes the content under a new key and returns its size; nothing is left behind on failure. */
  async write(key: string, content: Buffer | Readable): Promise<number> {
    const path = this.pathOf(key);
    if (!path) throw new Error('Invalid document storage key');
    await mkdir(this.dir, { recursive: true });
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(null, chunk);
      },
    });
    const target = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    // Only a file this write created is removed: an open refused ('wx': the key taken) leaves the file there as it was.
    let created = false;
    target.once('open', () => {
      created = true;
    });
    try {
      const source = Buffer.isBuffer(content) ? Readable.from([content]) : content;
      await pipeline(source, counter, target);
    } catch (error) {
      // The pipeline fails as soon as the source does, which may be before the file's open (on
      // the thread pool) has created it: removed then, the file was created a moment later and
      // left behind, empty (about one broken upload in 500). It is removed once its stream has closed.
      if (!target.closed) await new Promise<void>((closed) => target.once('close', () => closed()));
      if (created) await rm(path, { force: true });
      throw error;
    }
    return size;
  }

  async remove(key: unknown): Promise<void> {
    const path = this.pathOf(key);
    if (path) await rm(path, { force: true });
  }

  /**
   * A stream of the stored file, or null when it is missing. The file is open when this returns:
   * a stream made from its path opened it a moment later, and a file removed in between (after a
   * look that it was there) failed the download with a 500 instead of a missing file's answer.
   */
  async open(key: unknown): Promise<Readable | null> {
    const path = this.pathOf(key);
    if (!path) return null;
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch {
      return null;
    }
    try {
      if ((await file.stat()).isFile()) return createReadStream(path, { fd: file });
    } catch {
      // Closed below, as a file that is no file.
    }
    await file.close();
    return null;
  }
}
