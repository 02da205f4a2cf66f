import type { BatchResult, CompletionItem } from './completion-batch';

/** What one job's completion came to. */
export interface ItemResult {
  recorded: boolean;
  /** Steps to start at once; given to one item of a batch only. */
  taken: BatchResult['taken'];
  readyJobs: number;
  ended: BatchResult['ended'];
}

interface Pending {
  item: CompletionItem;
  resolve: (result: ItemResult) => void;
  reject: (error: unknown) => void;
}

export interface CompletionBatcherOptions {
  complete: (tenantId: string, items: readonly CompletionItem[]) => Promise<BatchResult>;
  /** Most results in one transaction. Default: 64. */
  maxBatch?: number;
  /** Transactions in flight at once. Default: 2. */
  maxFlushes?: number;
}

/**
 * Group commit for step results: results that arrive while earlier ones are being committed wait and
 * are committed together, one transaction per tenant. An idle worker commits a lone result at once,
 * so batching adds no latency when there is nothing to batch.
 */
export class CompletionBatcher {
  private readonly queue: Pending[] = [];
  private flushing = 0;

  constructor(private readonly options: CompletionBatcherOptions) {}

  submit(item: CompletionItem): Promise<ItemResult> {
    return new Promise<ItemResult>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    const maxFlushes = this.options.maxFlushes ?? 2;
    const maxBatch = this.options.maxBatch ?? 64;
    while (this.flushing < maxFlushes && this.queue.length > 0) {
      const tenantId = this.queue[0]?.item.job.tenantId ?? '';
      const batch: Pending[] = [];
      for (let i = 0; i < this.queue.length && batch.length < maxBatch; ) {
        const pending = this.queue[i];
        if (pending && pending.item.job.tenantId === tenantId) {
          batch.push(pending);
          this.queue.splice(i, 1);
        } else {
          i++;
        }
      }
      this.flushing++;
      void this.options
        .complete(
          tenantId,
          batch.map((p) => p.item),
        )
        .then(
          (result) => {
            batch.forEach((p, index) => {
              p.resolve({
                recorded: result.recorded.has(p.item.job.id),
                taken: index === 0 ? result.taken : [],
                readyJobs: index === 0 ? result.readyJobs : 0,
                ended: index === 0 ? result.ended : [],
              });
            });
          },
          (error: unknown) => {
            for (const p of batch) p.reject(error);
          },
        )
        .finally(() => {
          this.flushing--;
          this.kick();
        });
    }
  }
}
