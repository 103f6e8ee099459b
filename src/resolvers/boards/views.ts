import { badInput, unauthenticated } from '../../errors.js';
import type { BoardDefinition, BoardDefinitions } from './definitions.js';
import { periodAt, periodByKey, type Period } from './periods.js';
import type { ResolvedView } from './ranking.js';

/**
 * From the arguments a client gives (board, period, segment) to the exact view
 * to read, with every rule about them in one place.
 */

const MAX_SEGMENT = 64;

/** How the caller's own segment is found when none is given (null: the caller has none / no JWT). */
export type OwnSegment = (attribute: string) => Promise<string | null | undefined>;

export interface ViewArgs {
  board?: string | null;
  period?: string | null;
  segment?: string | null;
}

/** The period a board is in now (CUSTOM before its anchor: period 0, still to come). */
export function currentPeriod(board: BoardDefinition, nowMs = Date.now()): Period {
  return periodAt(board, nowMs) ?? periodByKey(board, '0');
}

export function normaliseSegment(attribute: string, value: string): string {
  const v = value.trim();
  if (v.length === 0 || v.length > MAX_SEGMENT) throw badInput(`segment must be 1..${MAX_SEGMENT} characters`);
  return attribute === 'country' ? v.toUpperCase() : v;
}

/**
 * Resolves the view. `ownSegment` answers the caller's attribute value; it
 * throws UNAUTHENTICATED without a JWT. A segment on an unsegmented board, or
 * none on a segmented board for a caller without that attribute, is bad input.
 */
export async function resolveView(definitions: BoardDefinitions, args: ViewArgs, ownSegment: OwnSegment): Promise<{ board: BoardDefinition; view: ResolvedView }> {
  const board = await definitions.require(args.board ?? 'global');
  const periodInfo = args.period == null ? currentPeriod(board) : periodByKey(board, args.period);
  let segment: string | null = null;
  if (board.segmentBy === null) {
    if (args.segment != null) throw badInput(`Board "${board.id}" has no segments`);
  } else if (args.segment != null) {
    segment = normaliseSegment(board.segmentBy, args.segment);
  } else {
    let own: string | null | undefined;
    try {
      own = await ownSegment(board.segmentBy);
    } catch (error) {
      if ((error as { extensions?: { code?: string } }).extensions?.code === 'UNAUTHENTICATED') {
        throw badInput(`Board "${board.id}" is segmented by ${board.segmentBy}: give a segment, or a JWT whose player has one`);
      }
      throw error;
    }
    if (!own) throw badInput(`Board "${board.id}" is segmented by ${board.segmentBy}, and this player has none: give a segment`);
    segment = own;
  }
  return { board, view: { board: board.id, period: periodInfo.key, segment, periodInfo } };
}

/** For resolvers that need a JWT to know the caller's own segment. */
export const noOwnSegment: OwnSegment = async () => {
  throw unauthenticated();
};
