/**
 * An arrival-ordered queue taken from the front: taking items moves a head index instead of
 * shifting the array (shift() copies the rest every time), and the taken part is dropped in one
 * copy once it is more than half of the array and more than 1024 items, so memory follows what is
 * still queued. Readers walk `items` from `head` and say how far they took with `takenTo`.
 */
export class HeadQueue<T> {
  items: T[] = [];
  head = 0;

  /** Items still queued. */
  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item still queued. */
  first(): T | undefined {
    return this.items[this.head];
  }

  /** The items before index `end` of `items` are taken. */
  takenTo(end: number): void {
    if (end > 1024 && end * 2 > this.items.length) {
      this.items = this.items.slice(end);
      this.head = 0;
    } else {
      this.head = end;
    }
  }

  /** Orders what is still queued (after items were added out of order). */
  sort(compare: (a: T, b: T) => number): void {
    this.items = this.items.slice(this.head).sort(compare);
    this.head = 0;
  }
}
