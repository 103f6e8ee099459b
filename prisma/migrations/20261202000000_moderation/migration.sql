-- Operators: hidden and banned players, voids and imports as compensating
-- audit rows, and one audit table for what is not a score change.

-- AlterTable
ALTER TABLE "players" ADD COLUMN "hidden" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "banned" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "board_entries" ADD COLUMN "hidden" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "action_credits" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'CREDIT',
ADD COLUMN "voids" UUID,
ADD COLUMN "actor" TEXT,
ADD COLUMN "reason" TEXT,
ALTER COLUMN "action_type" DROP NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "action_credits_voids_key" ON "action_credits"("voids");

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "player_id" TEXT,
    "actor" TEXT,
    "reason" TEXT,
    "detail" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_events_player_id_id_idx" ON "audit_events"("player_id", "id");

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_player_id_fkey" FOREIGN KEY ("player_id") REFERENCES "players"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written below this line (Prisma does not model these).
-- Audit ids and credit ids come from one sequence, so the audit log is one order (newest = highest id).
ALTER TABLE "audit_events" ALTER COLUMN "id" SET DEFAULT nextval('action_credits_id_seq');
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_kind_valid" CHECK ("kind" IN ('CREDIT', 'VOID', 'IMPORT'));
-- The chain holds for every row; only a credit must add points (a void takes back, an import sets).
ALTER TABLE "action_credits" DROP CONSTRAINT "action_credits_chain";
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_chain" CHECK (
  "new_score" = "old_score" + "delta" AND "new_score" >= 0 AND CASE "kind" WHEN 'CREDIT' THEN "delta" > 0 WHEN 'VOID' THEN "delta" <= 0 ELSE true END
);
-- An import sets a score without an action: it is the only row without an action type.
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_type_unless_import" CHECK (("kind" = 'IMPORT') = ("action_type" IS NULL));
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_voids_only_on_void" CHECK (("kind" = 'VOID') = ("voids" IS NOT NULL));
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_kind_valid" CHECK ("kind" IN ('HIDE', 'UNHIDE', 'BAN', 'UNBAN', 'CONFIG', 'REBUILD'));
-- Rank queries only ever count visible entries: the ranking index holds only those.
DROP INDEX "board_entries_ranking_idx";
CREATE INDEX "board_entries_ranking_idx" ON "board_entries"("board_id", "period_key", "segment", "score" DESC, "reached_seq", "player_id") WHERE NOT "hidden";
