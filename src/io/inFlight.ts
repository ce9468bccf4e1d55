/**
 * The requests a worker handle has sent and not yet had answered, so that close() can wait for them: a worker
 * stopped inside a native call (onnxruntime, sharp) can abort the whole process.
 */
export class InFlight {
  private readonly settled = new Set<Promise<void>>();

  /** Returns `p` unchanged, remembering it until it settles. */
  track<T>(p: Promise<T>): Promise<T> {
    const s: Promise<void> = p
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.settled.delete(s));
    this.settled.add(s);
    return p;
  }

  /** Resolves once everything tracked so far has settled, whether it resolved or rejected. */
  async drain(): Promise<void> {
    await Promise.all([...this.settled]);
  }
}
