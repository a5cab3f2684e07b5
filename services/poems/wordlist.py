"""The words bot players write with: plain lowercase English, chosen to sound like poetry.

Three parts of speech, so a bot line can follow a small pattern ("quiet river remembers
stone") instead of being word salad: singular nouns, verbs in the third person singular, and
adjectives. Every word is letters a-z only (one word to ``services.poems.words.count_words``,
accepted by ``clean_line``), short, and harmless to read aloud at any table.
"""

from __future__ import annotations

NOUNS: tuple[str, ...] = tuple(
    """
    moon river stone window garden lantern meadow harbor feather mirror candle forest ocean
    cloud thunder shadow ember willow orchard valley mountain island compass letter ribbon
    bridge tower meadowlark sparrow heron falcon raven swallow fox deer rabbit otter whale
    salmon beetle moth spider lily rose tulip daisy clover fern moss acorn pine oak maple
    birch cedar thistle bramble honey apple pear plum cherry lemon bread salt milk tea
    kettle teacup spoon basket blanket pillow quilt thread needle button pocket coat scarf
    boot lamp door key lock stair attic cellar chimney roof porch fence gate path road
    lane field hill shore tide wave pebble sand dune cliff cave spring brook creek pond
    lake rain snow frost fog mist dew storm breeze wind sky star comet planet dawn dusk
    morning evening midnight noon summer winter autumn season hour minute moment year
    memory dream song whisper echo silence laughter story secret promise wish journey
    voyage map anchor sail ship boat oar lighthouse harp drum flute violin bell chorus
    melody rhythm poem verse page ink pencil book library clock calendar photograph
    postcard envelope stamp kite balloon marble puzzle riddle crown castle king queen
    knight dragon giant wizard sailor farmer baker painter dancer singer traveler stranger
    neighbor friend sister brother mother father child grandmother heart hand shoulder
    eye smile breath voice footstep fire smoke ash flame spark glass silver gold copper
    velvet silk wool linen paper wheel engine train station ticket suitcase city village
    street market fountain statue museum chapel orchestra harvest wheat barley vineyard
    """.split()
)

VERBS: tuple[str, ...] = tuple(
    """
    whispers sings dances wanders remembers forgets dreams sleeps wakes breathes listens
    watches waits hums drifts floats glows shines burns melts freezes falls rises climbs
    flies swims runs walks carries holds gathers scatters opens closes unfolds
    follows finds keeps loses answers calls echoes shivers trembles blooms grows fades
    lingers hides returns leaves arrives travels sails rows paints writes reads counts
    builds mends weaves spins bends sways rolls tumbles sparkles flickers gleams hushes
    rustles murmurs laughs sighs hopes wishes wonders believes knows learns teaches
    gives borrows shares bakes pours stirs plants waters harvests polishes folds
    """.split()
)

ADJECTIVES: tuple[str, ...] = tuple(
    """
    quiet gentle silver golden pale bright dark soft warm cold tender wild calm still
    slow swift ancient young old small tiny vast endless hollow hidden secret lonely
    distant near green blue amber crimson violet scarlet azure ivory rosy dusky misty
    frosty sunny rainy windy stormy starry moonlit sleepy dreamy drowsy patient restless
    curious brave shy proud humble honest kind merry cheerful joyful wistful solemn
    silent velvet gleaming shining glowing fading broken mended woven painted empty
    heavy light hungry thirsty sweet bitter salty wooden stony sandy mossy
    leafy rusty dusty hazy foggy snowy icy fiery tall narrow wide deep shallow round
    crooked lucky faithful forgotten remembered borrowed wandering whispering
    """.split()
)

WORDS: tuple[str, ...] = tuple(dict.fromkeys(NOUNS + VERBS + ADJECTIVES))
"""Every word a bot may write, each once (a word may be in two parts of speech)."""
