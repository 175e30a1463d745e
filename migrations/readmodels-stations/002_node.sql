-- Which CSMS node holds each online station's socket (NODE_ID; null when offline or connected
-- before nodes were recorded), so a node restarting after a crash finds the connections it held
-- (api/settle-node.ts). disconnect_reason says why the station went offline (the gateway's reason,
-- or nodeRestarted).
ALTER TABLE stations ADD COLUMN node_id text;
ALTER TABLE stations ADD COLUMN disconnect_reason text;
CREATE INDEX stations_online_by_node ON stations (node_id) WHERE online;
