import type { BoardDefinitionFieldsFragment, BoardPageFieldsFragment } from '../../../sdk/generated/graphql';
import { formatScore } from '../board';
import { periodLabel } from '../boards';
import { el, say, uniqueId } from './dom';

/**
 * "Boards": one card (`admin-board`) per board, enabled or not, with its title,
 * window, current period and current top. A segmented board has one standings
 * table per value, so its card asks which segment to show.
 */

export const TOP_SIZE = 5;

export type BoardDef = BoardDefinitionFieldsFragment;
export type BoardTop = BoardPageFieldsFragment;
/** Loads a board's current top; throws with a message for people. */
export type LoadTop = (board: string, segment: string | null) => Promise<BoardTop>;

interface Card {
  def: BoardDef;
  root: HTMLElement;
  meta: HTMLElement;
  period: HTMLElement;
  list: HTMLOListElement;
  note: HTMLElement;
  segment?: HTMLInputElement;
  /** Bumped on every load, so an older answer arriving late never replaces a newer one. */
  generation: number;
}

export function createBoardsPanel(container: HTMLElement, loadTop: LoadTop) {
  let cards: Card[] = [];

  function windowText(b: BoardDef): string {
    const when = b.window === 'CUSTOM' ? `every ${b.periodSeconds ?? '?'} s` : b.window === 'ALL_TIME' ? 'all time' : `${b.window.toLowerCase()}, ${b.timeZone}`;
    return [b.id, when, b.segmentBy ? `per ${b.segmentBy}` : '', b.actionTypes ? `counts ${b.actionTypes.join(', ')}` : '', b.enabled ? '' : 'disabled']
      .filter(Boolean)
      .join(' · ');
  }

  function createCard(def: BoardDef): Card {
    const titleId = uniqueId('admin-board-title');
    const heading = el('h3', { id: titleId }, def.title); // text, never HTML
    const meta = el('span', { class: 'meta' });
    const period = el('p', { class: 'period', 'data-testid': 'admin-board-period' });
    const list = el('ol', { class: 'rows', 'data-testid': 'admin-board-top', 'aria-label': `Top ${TOP_SIZE} of ${def.title}` });
    const note = el('p', { class: 'note', 'data-testid': 'admin-board-note', 'aria-live': 'polite' });
    const root = el(
      'article',
      { class: `admin-board${def.enabled ? '' : ' disabled'}`, 'data-testid': 'admin-board', 'data-board-id': def.id, 'aria-labelledby': titleId },
      el('div', { class: 'board-head' }, heading, meta),
      el('p', { class: 'window' }, windowText(def)),
      period,
    );
    const card: Card = { def, root, meta, period, list, note, generation: 0 };
    if (def.segmentBy) {
      const inputId = uniqueId('admin-segment');
      const segment = el('input', { id: inputId, 'data-testid': 'admin-board-segment', maxlength: '64', autocomplete: 'off', spellcheck: 'false' });
      const form = el(
        'form',
        { class: 'segment-form' },
        el('label', { for: inputId }, `Segment (${def.segmentBy})`),
        el('div', { class: 'inline' }, segment, el('button', { type: 'submit' }, 'Show')),
      );
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void refreshCard(card);
      });
      card.segment = segment;
      root.append(form);
    }
    root.append(list, note);
    return card;
  }

  function renderTop(card: Card, top: BoardTop) {
    card.period.textContent = periodLabel(card.def, top.period);
    card.meta.textContent = `${top.totalPlayers} player${top.totalPlayers === 1 ? '' : 's'} · seq ${top.seq}`;
    card.list.dataset.seq = String(top.seq);
    const rows = top.entries.map((e) => {
      const li = el(
        'li',
        {
          class: `row${e.position <= 3 ? ' podium' : ''}`,
          'data-testid': 'admin-board-row',
          'data-player-id': e.player.id,
          'data-username': e.player.username,
          'data-rank': String(e.rank),
          'data-score': String(e.score),
        },
        el('span', { class: 'rank' }, String(e.rank)),
        ' ',
        el('span', { class: 'name', title: `${e.player.username} (${e.player.id})` }, e.player.username),
        ' ',
        el('span', { class: 'score' }, formatScore(e.score)),
      );
      return li;
    });
    card.list.replaceChildren(...rows);
    say(card.note, rows.length === 0 ? 'No scores in this period yet.' : '');
  }

  async function refreshCard(card: Card): Promise<void> {
    const generation = ++card.generation;
    let segment: string | null = null;
    if (card.segment) {
      segment = card.segment.value.trim() || null;
      if (!segment) {
        card.list.replaceChildren();
        card.meta.textContent = '';
        say(card.note, `One table per ${card.def.segmentBy}: enter a value to see its top.`);
        return;
      }
    }
    card.root.setAttribute('aria-busy', 'true');
    try {
      const top = await loadTop(card.def.id, segment);
      if (generation === card.generation) renderTop(card, top);
    } catch (error) {
      if (generation !== card.generation) return;
      card.list.replaceChildren();
      card.meta.textContent = '';
      say(card.note, (error as Error).message, 'error');
    } finally {
      if (generation === card.generation) card.root.removeAttribute('aria-busy');
    }
  }

  return {
    /** Replaces the cards (keeping typed segments) and loads every top. */
    async show(boards: readonly BoardDef[]): Promise<void> {
      const segments = new Map(cards.map((c) => [c.def.id, c.segment?.value ?? '']));
      cards = boards.map(createCard);
      for (const card of cards) if (card.segment) card.segment.value = segments.get(card.def.id) ?? '';
      container.replaceChildren(...cards.map((c) => c.root));
      if (cards.length === 0) container.append(el('p', { class: 'note' }, 'No boards.'));
      await Promise.all(cards.map(refreshCard));
      container.setAttribute('aria-busy', 'false');
    },
    /** Re-reads every top (after a moderation act). */
    async refresh(): Promise<void> {
      await Promise.all(cards.map(refreshCard));
    },
  };
}
