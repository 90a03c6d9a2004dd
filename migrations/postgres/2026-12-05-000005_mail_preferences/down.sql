DROP TABLE mail_mutes;
DROP TABLE mail_preferences;
