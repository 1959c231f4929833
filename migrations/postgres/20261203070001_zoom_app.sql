-- Zoom Server-to-Server OAuth app credentials of a Zoom source: ringhook asks Zoom for an access
-- token with them to download voicemail and recording audio. All four are set together or not
-- at all; `zoom_oauth_url` is where tokens are asked for (https://zoom.us unless overridden).
ALTER TABLE sources ADD COLUMN zoom_account_id TEXT;
ALTER TABLE sources ADD COLUMN zoom_client_id TEXT;
ALTER TABLE sources ADD COLUMN zoom_client_secret TEXT;
ALTER TABLE sources ADD COLUMN zoom_oauth_url TEXT;
