// A FIFO counting semaphore: acquire() resolves when a slot is free. Waiters queue in order,
// so batches keep their push order per destination.

export class Semaphore {
  private _free: number;
  private readonly _waiters: Array<() => void> = [];

  constructor(slots: number) {
    this._free = slots;
  }

  get waiting(): number {
    return this._waiters.length;
  }

  acquire(): Promise<void> | undefined {
    if (this._free > 0 && this._waiters.length === 0) {
      this._free--;
      return undefined;
    }
    return new Promise<void>((resolve) => this._waiters.push(resolve));
  }

  release(): void {
    const next = this._waiters.shift();
    if (next !== undefined) next();
    else this._free++;
  }
}
