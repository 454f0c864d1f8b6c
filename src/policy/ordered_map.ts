// A Map with O(1) move-to-back, kept in expiry / least-recently-used order, for the ban table and counters; no policy.

export interface Node<V> {
  key: string;
  value: V;
  prev: Node<V> | undefined;
  next: Node<V> | undefined;
}

export interface OrderedMap<V> {
  readonly size: number;
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): boolean;
  first(): Node<V> | undefined;
  /** Visits oldest → newest; `fn` may delete the entry it is given. */
  forEach(fn: (value: V, key: string) => void): void;
}

export function createOrderedMap<V>(): OrderedMap<V> {
  const map = new Map<string, Node<V>>();
  let head: Node<V> | undefined;
  let tail: Node<V> | undefined;
  const unlink = (n: Node<V>) => {
    if (n.prev) n.prev.next = n.next;
    else head = n.next;
    if (n.next) n.next.prev = n.prev;
    else tail = n.prev;
    n.prev = n.next = undefined;
  };
  return {
    get size() {
      return map.size;
    },
    get(key) {
      return map.get(key)?.value;
    },
    set(key, value) {
      let n = map.get(key);
      if (n !== undefined) {
        unlink(n);
        n.value = value;
      } else {
        n = { key, value, prev: undefined, next: undefined };
        map.set(key, n);
      }
      n.prev = tail;
      if (tail) tail.next = n;
      else head = n;
      tail = n;
    },
    delete(key) {
      const n = map.get(key);
      if (n === undefined) return false;
      unlink(n);
      return map.delete(key);
    },
    first: () => head,
    forEach(fn) {
      for (let n = head; n !== undefined; ) {
        const next = n.next;
        fn(n.value, n.key);
        n = next;
      }
    },
  };
}
