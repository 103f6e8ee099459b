-- Hand-written (Prisma does not model CHECK constraints).
-- The audit chain (new = old + delta) holds for every row, but only a CREDIT must
-- be positive: an IMPORT sets a score (it may lower it, or only rename: delta 0)
-- and a VOID takes a credit back (negative). Scores themselves never go below 0.
ALTER TABLE "action_credits" DROP CONSTRAINT "action_credits_chain";
ALTER TABLE "action_credits" ADD CONSTRAINT "action_credits_chain" CHECK (
  "new_score" = "old_score" + "delta" AND "new_score" >= 0
  AND CASE "kind" WHEN 'CREDIT' THEN "delta" > 0 WHEN 'VOID' THEN "delta" < 0 ELSE true END
);
