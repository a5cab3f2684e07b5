-- Poems topics carry their area: 'poems.game:<id>' instead of 'game:<id>', as every area's
-- topics are '<area>.<name>' (services/poems/live.py, TOPICS). Same events, same payloads.

create or replace function poems_notify_player() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify('poems.game:' || new.game_id, 'PLAYER_JOINED', new.id, null, new.tenant_id);
  return null;
end
$$;

create or replace function poems_notify_line() returns trigger
  language plpgsql
  as $$
begin
  perform allot_notify(
    'poems.game:' || new.game_id, 'LINE_SUBMITTED',
    (select id from game_players where game_id = new.game_id and seat = new.seat),
    null, new.tenant_id);
  return null;
end
$$;

create or replace function poems_notify_game() returns trigger
  language plpgsql
  as $$
declare
  kind text;
begin
  if new.status is distinct from old.status then
    kind := case new.status when 'IN_PROGRESS' then 'GAME_STARTED' else 'GAME_COMPLETED' end;
  else
    kind := 'ROUND_ADVANCED';
  end if;
  perform allot_notify('poems.game:' || new.id, kind, new.id, new.version, new.tenant_id);
  return null;
end
$$;
