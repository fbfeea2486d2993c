/** Errors of the record store beyond those the contract defines. */
export { RecordNotFoundError } from '../../plugin/host-contract/index.js';

/** A relation id that the registry does not know, or that cannot be used that way. */
export class RelationUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelationUsageError';
  }
}
