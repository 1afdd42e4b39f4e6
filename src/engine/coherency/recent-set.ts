/**
 * A set that forgets its oldest members past a capacity: remembers which blobs were verified lately so that a
 * check of named accounts reads a blob shared by many of their items once, in bounded memory. Forgetting only
 * costs a second read of the same file.
 */
export class RecentSet {
  private readonly members = new Set<string>()

  constructor(private readonly capacity: number) {}

  has(value: string): boolean {
    return this.members.has(value)
  }

  add(value: string): void {
    if (this.members.has(value)) return
    this.members.add(value)
    if (this.members.size > this.capacity) {
      // Sets iterate in insertion order: the first member is the oldest.
      const oldest = this.members.values().next().value
      if (oldest !== undefined) this.members.delete(oldest)
    }
  }
}
