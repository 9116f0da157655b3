"""Running the library as a service: health figures and alerts, cost, the audit log and
the LAN API's keys."""
