-- Tables flows write their whole decision in one statement (commit_plan), whose parts may
-- insert allocations and sessions. The hold expirer runs that same statement as allot_system
-- (it only ever releases holds and closes sessions), so allot_system needs the privilege even
-- for the parts that insert nothing.
grant insert on allocations, manual_assignment_sessions to allot_system;
