-- The version of the service that threw each exception (ExceptionLogged schema version 2).
-- Exceptions logged before it was recorded keep NULL.
ALTER TABLE service_exceptions ADD COLUMN service_version TEXT;
