/**
 * The highest value recorded in the last `span` to 2×`span` milliseconds: two buckets that
 * rotate as time passes. Reading does not reset it, so `/stats`, `/metrics` and a dashboard
 * polling at their own rates all see the same figure.
 */
export class RecentMax {
  private current = 0;
  private previous = 0;
  private bucketStart = 0;

  constructor(private readonly span: number) {}

  record(value: number, now = Date.now()): void {
    this.rotate(now);
    if (value > this.current) this.current = value;
  }

  read(now = Date.now()): number {
    this.rotate(now);
    return Math.max(this.current, this.previous);
  }

  private rotate(now: number): void {
    const elapsed = now - this.bucketStart;
    if (elapsed < this.span) return;
    // A bucket more than one span old says nothing about the last span.
    this.previous = elapsed < 2 * this.span ? this.current : 0;
    this.current = 0;
    this.bucketStart = now;
  }
}
