-- Every API process keeps users, shops, ended-or-not sessions and apps read
-- by id for a few seconds (store.ProfileCache). Whoever changes or deletes
-- one of those rows (a mutation, a follow moving a follower_count, the seed,
-- an operator's SQL: a password, a role, an account deleted), every process
-- hears it on the showcase_profiles channel when the transaction commits and
-- forgets what it kept of it. One line per row: u:<user id>, s:<shop id>,
-- f:<session (refresh-token family) id>, a:<app id>. Only changes that
-- matter are announced: a refresh token's rotation (used_at) is not.

CREATE FUNCTION notify_profiles() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    CASE TG_TABLE_NAME
    WHEN 'users' THEN PERFORM pg_notify('showcase_profiles', 'u:' || OLD.id);
    WHEN 'shops' THEN PERFORM pg_notify('showcase_profiles', 's:' || OLD.id);
    WHEN 'apps' THEN PERFORM pg_notify('showcase_profiles', 'a:' || OLD.id);
    WHEN 'refresh_tokens' THEN
        PERFORM pg_notify('showcase_profiles', 'f:' || OLD.family_id);
        IF r.family_id <> OLD.family_id THEN
            PERFORM pg_notify('showcase_profiles', 'f:' || r.family_id);
        END IF;
    END CASE;
    RETURN NULL;
END $$;

CREATE TRIGGER users_notify_profiles_upd AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION notify_profiles();
CREATE TRIGGER users_notify_profiles_del AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_profiles();
CREATE TRIGGER shops_notify_profiles_upd AFTER UPDATE ON shops
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION notify_profiles();
CREATE TRIGGER shops_notify_profiles_del AFTER DELETE ON shops
    FOR EACH ROW EXECUTE FUNCTION notify_profiles();
CREATE TRIGGER apps_notify_profiles_upd AFTER UPDATE ON apps
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION notify_profiles();
CREATE TRIGGER apps_notify_profiles_del AFTER DELETE ON apps
    FOR EACH ROW EXECUTE FUNCTION notify_profiles();
CREATE TRIGGER refresh_tokens_notify_profiles_upd AFTER UPDATE ON refresh_tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
        OR OLD.family_id IS DISTINCT FROM NEW.family_id OR OLD.user_id IS DISTINCT FROM NEW.user_id)
    EXECUTE FUNCTION notify_profiles();
CREATE TRIGGER refresh_tokens_notify_profiles_del AFTER DELETE ON refresh_tokens
    FOR EACH ROW EXECUTE FUNCTION notify_profiles();
