/**
 * One byte budget for every cache that holds registry bytes (`cache.maxBytes`, issue 12.5): the verified store's
 * allowed, stale and denied manifests, and the CRL/OCSP responses. Each LRU still bounds itself, but a cache
 * that is full does not make the others' bytes free: without a shared total, the node could hold maxBytes per
 * cache, per policy generation. After every insertion the budget evicts least-recently-used entries from the
 * largest member until the total fits, so a burst in one cache (a flood of large CRLs) costs that cache its
 * oldest entries first, and never grows the process past the one number the operator set.
 */
import { LRUCache } from 'lru-cache';

/** The slice of an LRUCache the budget needs (lru-cache keeps `calculatedSize` when `maxSize` is set). */
interface Member {
  readonly calculatedSize: number;
  readonly size: number;
  pop(): unknown;
}

export class CacheBudget {
  #maxBytes: number;
  readonly #members = new Set<Member>();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** A config reload may lower the budget: evict down to it now. */
  set maxBytes(value: number) {
    this.#maxBytes = value;
    this.enforce();
  }

  /** Bytes held by every member together. */
  get usedBytes(): number {
    let used = 0;
    for (const m of this.#members) used += m.calculatedSize;
    return used;
  }

  join(member: Member): void {
    this.#members.add(member);
  }

  /** A member that is dropped (a retired policy generation) stops counting. */
  leave(member: Member): void {
    this.#members.delete(member);
  }

  enforce(): void {
    let used = this.usedBytes;
    while (used > this.#maxBytes) {
      let largest: Member | undefined;
      for (const m of this.#members) if (m.size > 0 && (largest === undefined || m.calculatedSize > largest.calculatedSize)) largest = m;
      if (largest === undefined) return;
      const before = largest.calculatedSize;
      largest.pop();
      const freed = before - largest.calculatedSize;
      if (freed <= 0 && largest.size === 0) return;
      used -= freed;
    }
  }
}

type Options<K extends {}, V extends {}> = LRUCache.Options<K, V, unknown> & { readonly maxSize: number; readonly sizeCalculation: LRUCache.SizeCalculator<K, V> };

/** An LRUCache whose bytes also count against a shared CacheBudget (none: it bounds only itself). */
export class BudgetedCache<K extends {}, V extends {}> extends LRUCache<K, V> {
  readonly #budget: CacheBudget | undefined;

  constructor(budget: CacheBudget | undefined, options: Options<K, V>) {
    super(options);
    this.#budget = budget;
    budget?.join(this);
  }

  override set(key: K, value: V | undefined, options?: LRUCache.SetOptions<K, V, unknown>): this {
    super.set(key, value, options);
    this.#budget?.enforce();
    return this;
  }

  /** Stop counting against the budget (and drop everything). */
  detach(): void {
    this.#budget?.leave(this);
    this.clear();
  }
}

/**
 * An entry-count bound that allocates as entries arrive: lru-cache preallocates its key, value, link (and, with a
 * ttl, timestamp) arrays to `max` at construction — ~2 MB for a 65,536-entry cache, paid at start and again by
 * every policy generation — whereas a `maxSize` counted one per entry grows its plain arrays on demand. Same
 * bound, same eviction order.
 */
export function byCount<K extends {}, V extends {}>(entries: number): { readonly maxSize: number; readonly sizeCalculation: LRUCache.SizeCalculator<K, V> } {
  return { maxSize: entries, sizeCalculation: () => 1 };
}
