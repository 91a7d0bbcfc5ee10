-- Schema version 6: the admin room issues cards, numbered by the facility itself.
ALTER TABLE facility ADD COLUMN next_card_seq INTEGER NOT NULL DEFAULT 1;
