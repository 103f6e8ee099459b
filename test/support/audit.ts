import type { Instance } from './app.js';

/** What the database holds, to prove a rejection wrote nothing. */
export async function writes(instance: Instance) {
  const prisma = instance.app.services.prisma;
  const [credits, total] = await Promise.all([prisma.actionCredit.count(), prisma.player.aggregate({ _sum: { score: true } })]);
  return { credits, scoreSum: Number(total._sum.score ?? 0) };
}

/**
 * A player's audit rows in id order (credits, voids and imports: the order
 * they were applied under the player's row lock), checked to form one
 * unbroken chain (old + delta = new) that ends at the score.
 */
export async function auditChain(instance: Instance, playerId: string) {
  const prisma = instance.app.services.prisma;
  const rows = await prisma.actionCredit.findMany({ where: { playerId }, orderBy: { id: 'asc' } });
  const player = await prisma.player.findUniqueOrThrow({ where: { id: playerId } });
  let score = rows[0]?.kind === 'IMPORT' ? rows[0].oldScore : 0n;
  for (const row of rows) {
    if (row.oldScore !== score || row.newScore !== row.oldScore + BigInt(row.delta)) {
      throw new Error(`audit chain broken at ${row.id}: expected old ${score}, got ${row.oldScore} -> ${row.newScore}`);
    }
    score = row.newScore;
  }
  if (score !== player.score) throw new Error(`audit chain ends at ${score} but the score is ${player.score}`);
  return rows;
}
