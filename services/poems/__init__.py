"""Poems: Linejam-style exquisite-corpse games. A host opens a lobby with a join code, players
take seats, and once the game starts each of them writes one line of a different poem per
round, seeing only the line just before theirs, with the round's exact word count; the last
line of a round advances the game, and the poems are revealed when it completes (or the host
ends it). The players follow it live through gameEvents, which says who joined or submitted,
never what anyone wrote."""
