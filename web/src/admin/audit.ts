import type { AdminAuditLogQuery } from '../../../sdk/generated/graphql';
import { el, timeElement } from './dom';

/**
 * The audit log table: one `audit-row` per entry, newest first (the server's
 * order), with kind, time, player, actor, reason and the score change. CREDIT
 * rows offer to void that credit.
 */

export type AuditEntry = AdminAuditLogQuery['auditLog']['entries'][number];

const SIGNED = new Intl.NumberFormat('en', { signDisplay: 'exceptZero' });

export function createAuditRow(entry: AuditEntry, onVoid: (actionId: string) => void): HTMLTableRowElement {
  const none = () => el('span', { class: 'none', 'aria-label': 'none' }, '—');
  const player = entry.player ? el('span', { class: 'player' }, el('span', { class: 'name' }, entry.player.username), ' ', el('code', { class: 'id' }, entry.player.id)) : none();
  const delta =
    entry.delta === null
      ? none()
      : el('span', { title: entry.oldScore !== null && entry.newScore !== null ? `${entry.oldScore} → ${entry.newScore}` : '' }, SIGNED.format(entry.delta));
  const action = el('td', { class: 'action' });
  if (entry.actionId) {
    action.append(el('code', { class: 'id', title: entry.actionId }, entry.actionId), entry.actionType ? ` ${entry.actionType}` : '');
    if (entry.kind === 'CREDIT') {
      const button = el('button', { type: 'button', class: 'link', 'data-testid': 'audit-void', 'aria-label': `Void action ${entry.actionId}` }, 'Void…');
      button.addEventListener('click', () => onVoid(entry.actionId!));
      action.append(' ', button);
    }
  } else {
    action.append(none());
  }
  return el(
    'tr',
    {
      'data-testid': 'audit-row',
      'data-id': entry.id,
      'data-kind': entry.kind,
      'data-player-id': entry.player?.id,
      'data-action-id': entry.actionId ?? undefined,
    },
    el('td', { class: 'when' }, timeElement(entry.at)),
    el('td', {}, el('span', { class: `kind kind-${entry.kind.toLowerCase()}`, 'data-testid': 'audit-kind' }, entry.kind)),
    el('td', {}, player),
    el('td', {}, entry.actor ?? none()),
    el('td', { class: 'reason', 'data-testid': 'audit-reason' }, entry.reason ?? none()),
    el('td', { class: 'num' }, delta),
    action,
  );
}
