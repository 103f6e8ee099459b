import type { BoardDefinitionFieldsFragment, PeriodFieldsFragment } from '../../sdk/generated/graphql';

/**
 * Boards on the page: the tab strip, which board is chosen (kept in the URL
 * hash and in localStorage), and how a board's period reads to a person.
 */

export type BoardDef = BoardDefinitionFieldsFragment;
export type Period = PeriodFieldsFragment;

export const GLOBAL_BOARD = 'global';
const STORAGE_KEY = 'scoreboard.board';
const BOARD_ID = /^[a-z0-9-]{1,40}$/;

/** The enabled boards, `global` first (the server already lists it first; this just makes sure). */
export function tabBoards(all: readonly BoardDef[]): BoardDef[] {
  const enabled = all.filter((b) => b.enabled);
  return [...enabled.filter((b) => b.id === GLOBAL_BOARD), ...enabled.filter((b) => b.id !== GLOBAL_BOARD)];
}

/** `#board=weekly` in the address, else the last choice on this browser, else global. */
export function wantedBoard(): string {
  return boardFromHash() ?? storedBoard() ?? GLOBAL_BOARD;
}

export function boardFromHash(hash: string = location.hash): string | undefined {
  const id = new URLSearchParams(hash.replace(/^#/, '')).get('board') ?? undefined;
  return id && BOARD_ID.test(id) ? id : undefined;
}

function storedBoard(): string | undefined {
  try {
    const id = localStorage.getItem(STORAGE_KEY) ?? undefined;
    return id && BOARD_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers the choice: in the address (shareable, no new history entry) and on this browser. */
export function rememberBoard(id: string): void {
  const hash = id === GLOBAL_BOARD ? '' : `#board=${id}`;
  if (location.hash !== hash) history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
  try {
    localStorage.setItem(STORAGE_KEY, id);
  } catch {
    // storage disabled: the hash still has it
  }
}

const MONTHS = new Intl.DateTimeFormat('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
const DAY = new Intl.DateTimeFormat('en', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const WHEN = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

/** "All time", "Week of 2026-11-30 (America/New_York)", "November 2026 (UTC)"... */
export function periodLabel(board: Pick<BoardDef, 'window' | 'timeZone'> | undefined, period: Period): string {
  const zone = board?.timeZone ?? 'UTC';
  switch (board?.window) {
    case 'ALL_TIME':
      return 'All time';
    case 'DAILY': {
      const day = /^\d{4}-\d{2}-\d{2}$/.test(period.key) ? DAY.format(new Date(`${period.key}T00:00:00Z`)) : period.key;
      return `${day} (${zone})`;
    }
    case 'WEEKLY':
      return `Week of ${period.key} (${zone})`;
    case 'MONTHLY': {
      const month = /^\d{4}-\d{2}$/.test(period.key) ? MONTHS.format(new Date(`${period.key}-01T00:00:00Z`)) : period.key;
      return `${month} (${zone})`;
    }
    case 'CUSTOM':
      return period.startsAt && period.endsAt
        ? `Period ${period.key}: ${WHEN.format(new Date(period.startsAt))} – ${WHEN.format(new Date(period.endsAt))}`
        : `Period ${period.key}`;
    default:
      return period.key === 'all' ? 'All time' : period.key;
  }
}

/** The exact bounds, in the viewer's own time, for a tooltip. */
export function periodBounds(period: Period): string {
  if (!period.startsAt || !period.endsAt) return 'Every score since the start';
  return `${WHEN.format(new Date(period.startsAt))} – ${WHEN.format(new Date(period.endsAt))} (your time)`;
}

/** The start of a period in ms (ALL_TIME: 0), to tell a newer period from an older one. */
export function periodStart(period: Period): number {
  return period.startsAt ? Date.parse(period.startsAt) : 0;
}

/** The tab strip: one role=tab button per board, arrow keys move between them. */
export function createTabs(container: HTMLElement, onSelect: (id: string, viaKeyboard: boolean) => void) {
  let tabs: HTMLButtonElement[] = [];

  container.addEventListener('keydown', (event) => {
    const index = tabs.indexOf(event.target as HTMLButtonElement);
    if (index < 0) return;
    let next: number;
    switch (event.key) {
      case 'ArrowRight':
        next = (index + 1) % tabs.length;
        break;
      case 'ArrowLeft':
        next = (index - 1 + tabs.length) % tabs.length;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = tabs.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    tabs[next]!.focus();
    onSelect(tabs[next]!.dataset.board!, true);
  });

  return {
    render(boards: readonly BoardDef[], selected: string) {
      const had = new Map(tabs.map((t) => [t.dataset.board!, t]));
      tabs = boards.map((b) => {
        let tab = had.get(b.id);
        if (!tab) {
          tab = document.createElement('button');
          tab.type = 'button';
          tab.className = 'tab';
          tab.setAttribute('role', 'tab');
          tab.dataset.testid = 'board-tab';
          tab.dataset.board = b.id;
          tab.id = `tab-${b.id}`;
          tab.setAttribute('aria-controls', 'board-panel');
          tab.addEventListener('click', () => onSelect(b.id, false));
        }
        tab.textContent = b.title; // never HTML
        tab.title = windowText(b);
        return tab;
      });
      container.replaceChildren(...tabs);
      this.select(selected);
    },
    select(id: string) {
      for (const tab of tabs) {
        const on = tab.dataset.board === id;
        tab.setAttribute('aria-selected', String(on));
        tab.tabIndex = on ? 0 : -1;
      }
    },
  };
}

function windowText(b: BoardDef): string {
  const split = b.segmentBy ? `, per ${b.segmentBy}` : '';
  switch (b.window) {
    case 'ALL_TIME':
      return `All time${split}`;
    case 'CUSTOM':
      return `Every ${b.periodSeconds ?? '?'} s${split}`;
    default:
      return `${b.window.charAt(0)}${b.window.slice(1).toLowerCase()} in ${b.timeZone}${split}`;
  }
}
