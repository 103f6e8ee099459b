/** One row of a board, as every board query and the subscription return it. */
export interface Entry {
  rank: number;
  score: number;
  player: { id: string; username: string };
}

export interface BoardViewOptions {
  /** data-testid of each row (default "leaderboard-row"). */
  rowTestId?: string;
  /** Shown when the board has no entries. */
  emptyText?: string;
}

const numberFormat = new Intl.NumberFormat('en');
export const formatScore = (n: number) => numberFormat.format(n);

const MOVE_MS = 420;
const reducedMotion = () => window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;

/**
 * Renders the top N into an <ol>, keeping one <li> per player so rows can be
 * animated when ranks change (FLIP: measure First, change the DOM to the Last
 * state, Invert with a transform, Play the transform back to none).
 */
export function createBoardView(list: HTMLOListElement, options: BoardViewOptions = {}) {
  const rows = new Map<string, HTMLLIElement>();
  const empty = document.createElement('li');
  empty.className = 'empty';
  const emptyText = options.emptyText ?? 'No scores yet. Complete a task to get on the board.';
  empty.textContent = emptyText;

  function createRow(id: string): HTMLLIElement {
    const li = document.createElement('li');
    li.className = 'row';
    li.dataset.testid = options.rowTestId ?? 'leaderboard-row';
    li.dataset.playerId = id;
    const rank = document.createElement('span');
    rank.className = 'rank';
    const name = document.createElement('span');
    name.className = 'name';
    const score = document.createElement('span');
    score.className = 'score';
    // Spaces between the cells keep the row's text readable ("1 alice 10").
    li.append(rank, ' ', name, ' ', score);
    return li;
  }

  function fill(li: HTMLLIElement, entry: Entry, isMe: boolean) {
    const [rank, name, score] = li.querySelectorAll('span');
    rank!.textContent = String(entry.rank);
    name!.textContent = entry.player.username;
    name!.title = entry.player.username;
    score!.textContent = formatScore(entry.score);
    li.dataset.rank = String(entry.rank);
    li.dataset.score = String(entry.score);
    li.dataset.username = entry.player.username;
    li.classList.toggle('me', isMe);
    if (isMe) li.setAttribute('aria-current', 'true');
    else li.removeAttribute('aria-current');
    li.classList.toggle('podium', entry.rank <= 3);
    li.setAttribute('aria-label', `Rank ${entry.rank}: ${entry.player.username}, ${formatScore(entry.score)} points${isMe ? ' (you)' : ''}`);
  }

  return {
    /** Empties the list (another board is coming): no animation, `text` in place of the rows. */
    clear(text = emptyText) {
      for (const li of rows.values()) li.remove();
      rows.clear();
      empty.textContent = text;
      list.append(empty);
    },
    render(entries: readonly Entry[], meId: string | undefined) {
      empty.textContent = emptyText;
      const animate = !reducedMotion() && list.isConnected;
      // First: where every row is now.
      const before = new Map<string, { top: number; score: string | undefined }>();
      if (animate) for (const [id, li] of rows) before.set(id, { top: li.getBoundingClientRect().top, score: li.dataset.score });

      // Last: the DOM in its new order, reusing each player's row.
      const keep = new Set<string>();
      entries.forEach((entry, index) => {
        const id = entry.player.id;
        keep.add(id);
        let li = rows.get(id);
        if (!li) rows.set(id, (li = createRow(id)));
        fill(li, entry, id === meId);
        if (list.children[index] !== li) list.insertBefore(li, list.children[index] ?? null);
      });
      for (const [id, li] of rows) {
        if (!keep.has(id)) {
          li.remove();
          rows.delete(id);
        }
      }
      if (entries.length === 0) list.append(empty);
      else empty.remove();
      if (!animate) return;

      // Invert + Play. Transforms only: no layout work while the rows move.
      for (const entry of entries) {
        const li = rows.get(entry.player.id)!;
        const old = before.get(entry.player.id);
        if (!old) {
          li.animate(
            [
              { opacity: 0, transform: 'scale(0.96)' },
              { opacity: 1, transform: 'none' },
            ],
            { duration: 260, easing: 'ease-out' },
          );
          continue;
        }
        const dy = old.top - li.getBoundingClientRect().top;
        if (Math.abs(dy) >= 1) {
          li.animate([{ transform: `translateY(${dy}px)` }, { transform: 'none' }], {
            duration: MOVE_MS,
            easing: 'cubic-bezier(0.2, 0.8, 0.2, 1)',
          });
        }
        if (old.score !== li.dataset.score) {
          li.querySelector('.score')!.animate([{ transform: 'scale(1.35)', color: 'var(--accent)' }, { transform: 'none' }], { duration: 600, easing: 'ease-out' });
        }
      }
    },
  };
}
