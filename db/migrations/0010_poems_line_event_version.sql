-- LINE_SUBMITTED carried no version, and its id is the submitter's player id, the same in
-- every round: so the player's notifications of rounds 0, 1, 2... were equal payloads. The
-- realtime path memoizes one read and one execution per change (hub.shared keyed by the
-- Change, schema.fanout keyed by the delta's key), so each player's later LINE_SUBMITTED
-- events were answered with the game as read for their first one (round 0 for whoever
-- submitted first, round 1 for whoever completed round 0). The notification now carries the
-- game's version as the line is inserted: every line bumps it (record_line), so a player's
-- lines of different rounds never share it, and each line's change is distinct.

create or replace function poems_notify_line() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'poems.game:' || new.game_id, 'LINE_SUBMITTED',
    (select id from game_players where game_id = new.game_id and seat = new.seat),
    (select version from games where id = new.game_id), new.tenant_id);
  return null;
end
$$;
