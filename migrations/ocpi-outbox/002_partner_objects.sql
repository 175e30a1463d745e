-- What each partner holds of ours, as far as our pushes know: an object whose whole state it
-- accepted (a Location PUT answered with success). A part of an object (an EVSE PATCH or PUT) is
-- only sent to a partner holding the whole; to any other the push sends the whole instead
-- (ocpi/locations/push.ts). Forgotten when the partner registers again. Bounded by partners times
-- objects.
CREATE TABLE partner_objects (
  tenant_id   text NOT NULL,
  partner_id  text NOT NULL,
  module      text NOT NULL,
  object_id   text NOT NULL,
  sent_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, partner_id, module, object_id)
);
