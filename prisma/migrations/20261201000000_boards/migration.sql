-- Boards and periods: operator-defined boards, one standings table per
-- board/period/segment, and the entries each credit touched.

-- AlterTable
ALTER TABLE "players" ADD COLUMN "attributes" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "action_credits" ADD COLUMN "issued_at" TIMESTAMPTZ(6),
ADD COLUMN "entries" JSONB NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "boards" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "board_window" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL DEFAULT 'UTC',
    "week_start" TEXT NOT NULL DEFAULT 'MONDAY',
    "period_seconds" INTEGER,
    "anchor" TIMESTAMPTZ(6),
    "segment_by" TEXT,
    "action_types" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "version" BIGINT NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "boards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "board_entries" (
    "board_id" TEXT NOT NULL,
    "period_key" TEXT NOT NULL,
    "segment" TEXT NOT NULL DEFAULT '',
    "player_id" TEXT NOT NULL,
    "score" BIGINT NOT NULL,
    "reached_seq" BIGINT NOT NULL,
    "final_position" INTEGER,
    "final_competition" INTEGER,
    "final_dense" INTEGER,

    CONSTRAINT "board_entries_pkey" PRIMARY KEY ("board_id","period_key","segment","player_id")
);

-- CreateIndex
CREATE INDEX "board_entries_ranking_idx" ON "board_entries"("board_id", "period_key", "segment", "score" DESC, "reached_seq", "player_id");

-- CreateTable
CREATE TABLE "board_final_periods" (
    "board_id" TEXT NOT NULL,
    "period_key" TEXT NOT NULL,
    "segment" TEXT NOT NULL DEFAULT '',
    "total" INTEGER NOT NULL,
    "last_seq" BIGINT NOT NULL,
    "finalized_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "board_final_periods_pkey" PRIMARY KEY ("board_id","period_key","segment")
);

-- CreateIndex
CREATE INDEX "board_entries_player_id_idx" ON "board_entries"("player_id");

-- CreateIndex
CREATE INDEX "board_entries_final_position_idx" ON "board_entries"("board_id", "period_key", "segment", "final_position");

-- AddForeignKey
ALTER TABLE "board_entries" ADD CONSTRAINT "board_entries_board_id_fkey" FOREIGN KEY ("board_id") REFERENCES "boards"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "board_final_periods" ADD CONSTRAINT "board_final_periods_board_id_fkey" FOREIGN KEY ("board_id") REFERENCES "boards"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "board_entries" ADD CONSTRAINT "board_entries_player_id_fkey" FOREIGN KEY ("player_id") REFERENCES "players"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written below this line (Prisma does not model these).
ALTER TABLE "boards" ADD CONSTRAINT "boards_window_valid" CHECK ("board_window" IN ('ALL_TIME', 'DAILY', 'WEEKLY', 'MONTHLY', 'CUSTOM'));
ALTER TABLE "boards" ADD CONSTRAINT "boards_custom_valid" CHECK (
  ("board_window" = 'CUSTOM') = ("period_seconds" IS NOT NULL AND "anchor" IS NOT NULL) AND coalesce("period_seconds", 1) >= 1
);
ALTER TABLE "board_entries" ADD CONSTRAINT "board_entries_score_positive" CHECK ("score" > 0);
ALTER TABLE "action_types" ADD CONSTRAINT "action_types_code_valid" CHECK ("code" ~ '^[A-Z][A-Z0-9_]{0,39}$') NOT VALID;

-- The board every operation reads when it names none; today's scores become its entries.
INSERT INTO "boards" ("id", "title", "board_window") VALUES ('global', 'All time', 'ALL_TIME');
INSERT INTO "board_entries" ("board_id", "period_key", "segment", "player_id", "score", "reached_seq")
  SELECT 'global', 'all', '', "id", "score", "reached_seq" FROM "players" WHERE "score" > 0;
UPDATE "action_credits" SET "entries" = '[{"board":"global","period":"all","segment":null}]';
