-- 0010: credentials bound to their account. Ciphertexts written from now on carry the account
-- id in their authenticated data, so a blob copied to another account's row no longer
-- decrypts there. Rows sealed before this are marked unbound (0); `liqwatch run` re-encrypts
-- them at start-up with the master key (SQL cannot: it has no key), and only bound rows are
-- ever decrypted for a poll.
ALTER TABLE credentials ADD COLUMN bound INTEGER NOT NULL DEFAULT 0 CHECK (bound IN (0, 1));
