-- CreateTable
CREATE TABLE "players" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "score" BIGINT NOT NULL DEFAULT 0,
    "reached_seq" BIGINT NOT NULL DEFAULT 0,
    "score_reached_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "players_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "action_credits" (
    "id" BIGSERIAL NOT NULL,
    "player_id" TEXT NOT NULL,
    "action_id" UUID NOT NULL,
    "action_type" TEXT NOT NULL,
    "delta" INTEGER NOT NULL,
    "old_score" BIGINT NOT NULL,
    "new_score" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "action_credits_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "action_types" (
    "code" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "min_seconds" INTEGER NOT NULL DEFAULT 0,
    "enabled" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "action_types_pkey" PRIMARY KEY ("code")
);

-- CreateIndex
CREATE INDEX "players_ranking_idx" ON "players"("score" DESC, "reached_seq");

-- CreateIndex
CREATE UNIQUE INDEX "action_credits_action_id_key" ON "action_credits"("action_id");

-- CreateIndex
CREATE INDEX "action_credits_player_id_id_idx" ON "action_credits"("player_id", "id");

-- AddForeignKey
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_player_id_fkey" FOREIGN KEY ("player_id") REFERENCES "players"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_action_type_fkey" FOREIGN KEY ("action_type") REFERENCES "action_types"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written below this line (Prisma does not model these).
-- Points are always positive, so a player's score only grows: the ranking cache
-- relies on that to ignore stale, out-of-order updates.
ALTER TABLE "action_types" ADD CONSTRAINT "action_types_points_positive" CHECK ("points" > 0 AND "min_seconds" >= 0);
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_chain" CHECK ("delta" > 0 AND "new_score" = "old_score" + "delta");

-- Seed the points table.
INSERT INTO "action_types" ("code", "points", "min_seconds", "enabled") VALUES ('COMPLETE_TASK', 10, 0, true);

-- Ranking-cache epochs: every rebuild of the cache takes the next value, so the
-- board `seq` (epoch * 2^32 + changes since the rebuild) never goes backwards,
-- even when Redis loses everything.
CREATE SEQUENCE "board_epoch_seq" AS BIGINT START 1;
