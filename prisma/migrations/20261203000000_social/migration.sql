-- Players' social layer: friendships, achievements and their unlocks, and
-- per-player action counts (the progress of ACTION_COUNT achievements).

-- CreateTable
CREATE TABLE "friendships" (
    "player_id" TEXT NOT NULL,
    "friend_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "since" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "friendships_pkey" PRIMARY KEY ("player_id","friend_id")
);

-- CreateTable
CREATE TABLE "achievements" (
    "code" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "kind" TEXT NOT NULL,
    "board_id" TEXT NOT NULL,
    "threshold" INTEGER NOT NULL,
    "action_type" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "achievements_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "player_achievements" (
    "player_id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "unlocked_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action_id" UUID,
    "period_key" TEXT,

    CONSTRAINT "player_achievements_pkey" PRIMARY KEY ("player_id","code")
);

-- CreateTable
CREATE TABLE "player_action_counts" (
    "player_id" TEXT NOT NULL,
    "action_type" TEXT NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "player_action_counts_pkey" PRIMARY KEY ("player_id","action_type")
);

-- CreateIndex
CREATE INDEX "player_achievements_action_id_idx" ON "player_achievements"("action_id");

-- CreateIndex
CREATE INDEX "achievements_board_id_idx" ON "achievements"("board_id");

-- AddForeignKey
ALTER TABLE "friendships" ADD CONSTRAINT "friendships_player_id_fkey" FOREIGN KEY ("player_id") REFERENCES "players"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "friendships" ADD CONSTRAINT "friendships_friend_id_fkey" FOREIGN KEY ("friend_id") REFERENCES "players"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "achievements" ADD CONSTRAINT "achievements_board_id_fkey" FOREIGN KEY ("board_id") REFERENCES "boards"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "achievements" ADD CONSTRAINT "achievements_action_type_fkey" FOREIGN KEY ("action_type") REFERENCES "action_types"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "player_achievements" ADD CONSTRAINT "player_achievements_player_id_fkey" FOREIGN KEY ("player_id") REFERENCES "players"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "player_achievements" ADD CONSTRAINT "player_achievements_code_fkey" FOREIGN KEY ("code") REFERENCES "achievements"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "player_action_counts" ADD CONSTRAINT "player_action_counts_player_id_fkey" FOREIGN KEY ("player_id") REFERENCES "players"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written below this line (Prisma does not model these).
-- One row per direction: (A, B, PENDING_OUT) pairs with (B, A, PENDING_IN); ACCEPTED on both sides.
ALTER TABLE "friendships" ADD CONSTRAINT "friendships_status_valid" CHECK ("status" IN ('PENDING_OUT', 'PENDING_IN', 'ACCEPTED'));
ALTER TABLE "friendships" ADD CONSTRAINT "friendships_not_self" CHECK ("player_id" <> "friend_id");
ALTER TABLE "achievements" ADD CONSTRAINT "achievements_kind_valid" CHECK ("kind" IN ('SCORE_AT_LEAST', 'ACTION_COUNT', 'RANK_AT_MOST'));
ALTER TABLE "achievements" ADD CONSTRAINT "achievements_threshold_valid" CHECK ("threshold" >= 1);
ALTER TABLE "achievements" ADD CONSTRAINT "achievements_action_type_only_on_count" CHECK (("kind" = 'ACTION_COUNT') = ("action_type" IS NOT NULL));
-- Progress of ACTION_COUNT starts from every action already credited.
INSERT INTO "player_action_counts" ("player_id", "action_type", "count")
  SELECT "player_id", "action_type", count(*) FROM "action_credits" WHERE "kind" = 'CREDIT' GROUP BY "player_id", "action_type";
