"""Restaurant tables: assigning tables to bookings, and the pure rules behind it."""
