"""Party: a party game hands each guest secret missions. Admins of a tenant create a party,
add its guests and a pool of missions (BOOK: RED and BLUE; PASSPHRASE: a RECEIVER and two
SENDERs; OBJECT: an AGENT), and assign: the whole party is planned in memory (every guest in
exactly three missions of at least two types, every mission used filled whole, nobody twice
in one mission), written in one statement, and checked again by the database at commit. The
guests follow it live through partyEvents, each seeing only their own roles."""
