/**
 * Members (subscriptions) ordered by score, so that "everyone whose score is
 * between s0 and s1" is found in O(log n + k) for k members in the range: a
 * score moving from s0 to s1 changes the rank only of players in between.
 *
 * A skip list keyed by (score, key). Insert, remove and move are O(log n)
 * expected; a member is one node whatever its level. Keys are unique.
 */

const MAX_LEVEL = 24;
/** Probability of promoting a node one level up (1/4: about 1.33 pointers per node). */
const P = 0.25;

interface Node {
  key: string;
  score: number;
  next: (Node | null)[];
}

export class ScoreIndex {
  private readonly head: Node = { key: '', score: Infinity, next: new Array<Node | null>(MAX_LEVEL).fill(null) };
  private level = 1;
  private readonly scores = new Map<string, number>();
  /** Nodes the last range() stepped through (descent + members returned): the cost the tests check. */
  lastRangeSteps = 0;

  constructor(private readonly random: () => number = Math.random) {}

  get size(): number {
    return this.scores.size;
  }

  has(key: string): boolean {
    return this.scores.has(key);
  }

  scoreOf(key: string): number | undefined {
    return this.scores.get(key);
  }

  /** Adds a member, or moves it to `score` when it is already in. */
  set(key: string, score: number): void {
    const current = this.scores.get(key);
    if (current === score) return;
    if (current !== undefined) this.unlink(key, current);
    this.link(key, score);
    this.scores.set(key, score);
  }

  delete(key: string): boolean {
    const current = this.scores.get(key);
    if (current === undefined) return false;
    this.unlink(key, current);
    this.scores.delete(key);
    return true;
  }

  /** Keys with lo <= score <= hi, highest score first. O(log n + k). */
  range(lo: number, hi: number): string[] {
    const out: string[] = [];
    if (lo > hi) return out;
    // Descend to the last node ordered before (hi, +inf): nodes are kept score-descending.
    let steps = 0;
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n && n.score > hi; n = x.next[i]) {
        x = n;
        steps++;
      }
    }
    for (let n = x.next[0]; n && n.score >= lo; n = n.next[0]) {
      out.push(n.key);
      steps++;
    }
    this.lastRangeSteps = steps;
    return out;
  }

  /** Every key, highest score first (tests and diagnostics). */
  keys(): string[] {
    const out: string[] = [];
    for (let n = this.head.next[0]; n; n = n.next[0]) out.push(n.key);
    return out;
  }

  /** Order: score descending, then key ascending (any total order works; this one is stable). */
  private static before(score: number, key: string, node: Node): boolean {
    return node.score > score || (node.score === score && node.key < key);
  }

  private link(key: string, score: number) {
    const update = new Array<Node>(MAX_LEVEL);
    let x = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n && ScoreIndex.before(score, key, n); n = x.next[i]) x = n;
      update[i] = x;
    }
    let lvl = 1;
    while (lvl < MAX_LEVEL && this.random() < P) lvl++;
    if (lvl > this.level) {
      for (let i = this.level; i < lvl; i++) update[i] = this.head;
      this.level = lvl;
    }
    const node: Node = { key, score, next: new Array<Node | null>(lvl).fill(null) };
    for (let i = 0; i < lvl; i++) {
      node.next[i] = update[i]!.next[i]!;
      update[i]!.next[i] = node;
    }
  }

  private unlink(key: string, score: number) {
    let x = this.head;
    const update = new Array<Node>(MAX_LEVEL);
    for (let i = this.level - 1; i >= 0; i--) {
      for (let n = x.next[i]; n && ScoreIndex.before(score, key, n); n = x.next[i]) x = n;
      update[i] = x;
    }
    const target = x.next[0];
    if (!target || target.key !== key) return;
    for (let i = 0; i < target.next.length; i++) update[i]!.next[i] = target.next[i]!;
    while (this.level > 1 && this.head.next[this.level - 1] === null) this.level--;
  }
}
