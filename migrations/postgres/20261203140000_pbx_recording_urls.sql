-- Asterisk sources: where the operator's web server offers MixMonitor's files
-- (`https://pbx.example.net/recordings/{file}`); without it no recording is told.
ALTER TABLE pbx_sockets ADD COLUMN recording_url_template TEXT;
