import type { ModeratedPlayerFieldsFragment } from '../../../sdk/generated/graphql';
import { formatScore } from '../board';
import { el, say, uniqueId } from './dom';

/**
 * Search results: one `admin-player` row per player, with their id, name,
 * score and moderation state, a required `admin-reason`, and the acts.
 * `admin-hide` hides (or unhides a hidden player), `admin-ban` bans (or
 * unbans). An empty reason is refused here, before anything is sent.
 */

export type ModeratedPlayer = ModeratedPlayerFieldsFragment;
export type PlayerAct = 'HIDE' | 'UNHIDE' | 'BAN' | 'UNBAN';

export interface PlayerRowHandlers {
  /** Performs the act; resolves with the player as they are now, or throws with a message for people. */
  act(player: ModeratedPlayer, act: PlayerAct, reason: string): Promise<ModeratedPlayer>;
  /** Shows this player's entries in the audit log. */
  showAudit(player: ModeratedPlayer): void;
}

export const PAST: Record<PlayerAct, string> = { HIDE: 'Hidden', UNHIDE: 'Shown again', BAN: 'Banned', UNBAN: 'Unbanned' };

export function createPlayerRow(initial: ModeratedPlayer, handlers: PlayerRowHandlers) {
  let player = initial;
  const reasonId = uniqueId('admin-reason');
  const name = el('strong', { class: 'name' });
  const id = el('code', { class: 'id' });
  const score = el('span', { class: 'score' });
  const badges = el('span', { class: 'badges' });
  const reason = el('input', {
    id: reasonId,
    'data-testid': 'admin-reason',
    maxlength: '500',
    autocomplete: 'off',
    placeholder: 'Reason (required)',
  });
  const reasonLabel = el('label', { for: reasonId, class: 'visually-hidden' });
  const hide = el('button', { type: 'button', 'data-testid': 'admin-hide' });
  const ban = el('button', { type: 'button', 'data-testid': 'admin-ban' });
  const audit = el('button', { type: 'button', class: 'link', 'data-testid': 'admin-player-audit' }, 'Audit log');
  const message = el('p', { class: 'message', 'data-testid': 'admin-player-message', role: 'status', 'aria-live': 'polite' });
  const row = el(
    'li',
    { class: 'admin-player', 'data-testid': 'admin-player' },
    el('div', { class: 'who' }, name, ' ', id, ' ', score, ' ', badges),
    el('div', { class: 'act' }, reasonLabel, reason, hide, ban, audit),
    message,
  );

  function render() {
    row.dataset.playerId = player.id;
    row.dataset.username = player.username;
    row.dataset.score = String(player.score);
    row.dataset.hidden = String(player.hidden);
    row.dataset.banned = String(player.banned);
    name.textContent = player.username;
    id.textContent = player.id;
    score.textContent = `${formatScore(player.score)} points`;
    const states = [player.hidden ? 'hidden' : '', player.banned ? 'banned' : ''].filter(Boolean);
    badges.replaceChildren(...(states.length ? states : ['visible']).map((s) => el('span', { class: `badge ${s}`, 'data-testid': 'admin-player-state' }, s)));
    reasonLabel.textContent = `Reason for acting on ${player.username}`;
    const hideAct: PlayerAct = player.hidden ? 'UNHIDE' : 'HIDE';
    const banAct: PlayerAct = player.banned ? 'UNBAN' : 'BAN';
    hide.dataset.act = hideAct;
    hide.textContent = player.hidden ? 'Unhide' : 'Hide';
    hide.setAttribute('aria-label', `${hide.textContent} ${player.username}`);
    ban.dataset.act = banAct;
    ban.textContent = player.banned ? 'Unban' : 'Ban';
    ban.setAttribute('aria-label', `${ban.textContent} ${player.username}`);
    ban.classList.toggle('danger', !player.banned);
    audit.setAttribute('aria-label', `Audit log of ${player.username}`);
  }

  async function perform(button: HTMLButtonElement) {
    const act = button.dataset.act as PlayerAct;
    const why = reason.value.trim();
    if (!why) {
      reason.setAttribute('aria-invalid', 'true');
      say(message, `A reason is required to ${act.toLowerCase()} ${player.username}: it goes into the audit log.`, 'error');
      reason.focus();
      return;
    }
    reason.removeAttribute('aria-invalid');
    hide.disabled = ban.disabled = true;
    say(message, 'Working…');
    try {
      player = await handlers.act(player, act, why);
      render();
      reason.value = '';
      say(message, `${PAST[act]}: “${why}”.`, 'ok');
    } catch (error) {
      say(message, (error as Error).message, 'error');
    } finally {
      hide.disabled = ban.disabled = false;
    }
  }

  hide.addEventListener('click', () => void perform(hide));
  ban.addEventListener('click', () => void perform(ban));
  reason.addEventListener('input', () => {
    if (reason.value.trim()) reason.removeAttribute('aria-invalid');
  });
  audit.addEventListener('click', () => handlers.showAudit(player));
  render();

  return {
    row,
    get id() {
      return player.id;
    },
    /** The player changed elsewhere (e.g. a void): show their new state. */
    update(next: ModeratedPlayer) {
      player = next;
      render();
    },
  };
}
