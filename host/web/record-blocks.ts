/** The blocks plugins add to record pages (in memory: plugins register them on every activation). */
import type { HostRecordBlocks, RecordBlock, Unsubscribe } from '../../plugin/host-contract/index.js';

export class InMemoryRecordBlocks implements HostRecordBlocks {
  private list: RecordBlock[] = [];

  register(block: RecordBlock): Unsubscribe {
    if (this.list.some((existing) => existing.id === block.id)) throw new Error(`A record block "${block.id}" is registered already`);
    this.list = [...this.list, block];
    return () => {
      this.list = this.list.filter((existing) => existing !== block);
    };
  }

  blocksFor(module: string): readonly RecordBlock[] {
    // A stable sort: blocks of equal order keep their registration order.
    return this.list.filter((block) => block.module === module).sort((a, b) => a.order - b.order);
  }
}
