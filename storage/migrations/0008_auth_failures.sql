-- 0008: when the venue first rejected an account's key in the current unbroken run of rejected
-- polls (NULL when the last poll was anything else). One 401 is not a revoked key: the account
-- becomes auth_failed only once rejections have gone on for a minute.
ALTER TABLE accounts ADD COLUMN key_rejected_since REAL;
