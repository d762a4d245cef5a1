"""What each class of the taxonomy means, in a reader's words, with one example question.

The meanings follow the definitions of Li & Roth's taxonomy (2002); the examples are ours.
"""

from qclass import trec

# code: (what the answer is, an example question)
GLOSSARY = {
    "ABBR": ("A short form, or what a short form stands for.", "What does NATO stand for?"),
    "DESC": ("A definition, a description, a reason or a way of doing something.", "Why do leaves change color?"),
    "ENTY": ("A thing: an animal, a food, a color, a product, a work, a word, and other entities.",
             "What instrument did Miles Davis play?"),
    "HUM": ("A person or a group of people.", "Who founded the Red Cross?"),
    "LOC": ("A place: a city, a country, a mountain, a state, or another location.", "Where is Lake Titicaca?"),
    "NUM": ("A number: a date, a count, a distance, a price, a temperature, and other quantities.",
            "How many moons does Mars have?"),
    "ABBR:abb": ("The short form of something.", "What is the abbreviation for kilogram?"),
    "ABBR:exp": ("What a short form stands for.", "What does CPU stand for?"),
    "DESC:def": ("A definition of something.", "What is a black hole?"),
    "DESC:desc": ("A description of something.", "What is unusual about the platypus?"),
    "DESC:manner": ("The manner of an action: how something is done or happens.", "How do you make bread rise?"),
    "DESC:reason": ("A reason: why something is so.", "Why is the sea salty?"),
    "ENTY:animal": ("An animal.", "What is the largest animal in the ocean?"),
    "ENTY:body": ("An organ or part of the body.", "Which organ produces insulin?"),
    "ENTY:color": ("A color.", "What color is a flamingo?"),
    "ENTY:cremat": ("A creative work: a book, film, song, painting, show.", "What novel begins with 'Call me Ishmael'?"),
    "ENTY:currency": ("A currency.", "What currency is used in Japan?"),
    "ENTY:dismed": ("A disease or a medicine.", "What disease is caused by a lack of vitamin C?"),
    "ENTY:event": ("An event.", "What battle ended Napoleon's rule?"),
    "ENTY:food": ("A food or a drink.", "What is the main ingredient of guacamole?"),
    "ENTY:instru": ("A musical instrument.", "What instrument has 88 keys?"),
    "ENTY:lang": ("A language.", "What language is spoken in Brazil?"),
    "ENTY:letter": ("A letter or character.", "What letter comes after Q in the alphabet?"),
    "ENTY:other": ("Another kind of entity.", "What do you call a group of crows?"),
    "ENTY:plant": ("A plant.", "What tree do acorns come from?"),
    "ENTY:product": ("A product.", "What car did Ford make in 1908?"),
    "ENTY:religion": ("A religion.", "What religion did Gandhi practise?"),
    "ENTY:sport": ("A sport.", "What sport is played at Wimbledon?"),
    "ENTY:substance": ("An element or a substance.", "What gas do plants take in?"),
    "ENTY:symbol": ("A symbol or a sign.", "What is the chemical symbol for gold?"),
    "ENTY:techmeth": ("A technique or a method.", "What method is used to date fossils?"),
    "ENTY:termeq": ("An equivalent term: another name for something.", "What is another name for the Moon's dark side?"),
    "ENTY:veh": ("A vehicle.", "What was the first plane to break the sound barrier?"),
    "ENTY:word": ("A word with a special property.", "What word is spelled the same backwards?"),
    "HUM:desc": ("A description of a person.", "Who was Cleopatra?"),
    "HUM:gr": ("A group or an organization of people.", "Which band recorded Abbey Road?"),
    "HUM:ind": ("An individual person.", "Who invented the light bulb?"),
    "HUM:title": ("The title or role of a person.", "What was Winston Churchill's job?"),
    "LOC:city": ("A city.", "What is the capital of Kenya?"),
    "LOC:country": ("A country.", "Which country has the most islands?"),
    "LOC:mount": ("A mountain.", "What is the highest mountain in Africa?"),
    "LOC:other": ("Another kind of place: a river, a building, a region.", "Where is the Great Barrier Reef?"),
    "LOC:state": ("A state or a province.", "Which US state is Mount Rushmore in?"),
    "NUM:code": ("A postcode, telephone code or other code.", "What is the area code for Chicago?"),
    "NUM:count": ("How many of something.", "How many players are on a soccer team?"),
    "NUM:date": ("A date or a time.", "When did the Titanic sink?"),
    "NUM:dist": ("A distance, length or height.", "How tall is the Eiffel Tower?"),
    "NUM:money": ("A price or an amount of money.", "How much does a stamp cost in the UK?"),
    "NUM:ord": ("A rank or position in an order.", "What number president was Lincoln?"),
    "NUM:other": ("Another kind of number.", "What is the atomic number of carbon?"),
    "NUM:perc": ("A percentage or a fraction.", "What percentage of the Earth is covered by water?"),
    "NUM:period": ("A period of time: how long.", "How long does a cat live?"),
    "NUM:speed": ("A speed.", "How fast can a cheetah run?"),
    "NUM:temp": ("A temperature.", "At what temperature does water boil?"),
    "NUM:volsize": ("A size, area or volume.", "How big is the Sahara desert?"),
    "NUM:weight": ("A weight.", "How much does an elephant weigh?"),
}

assert set(GLOSSARY) == set(trec.COARSE_NAMES) | set(trec.FINE_NAMES), "one entry per class of the taxonomy"


def rows() -> list[dict]:
    """The glossary as a table: each class, then its subclasses."""
    table = []
    for coarse, name in trec.COARSE_NAMES.items():
        table.append({"code": coarse, "name": name, "means": GLOSSARY[coarse][0], "example": GLOSSARY[coarse][1]})
        table += [{"code": fine, "name": f"{name} › {trec.FINE_NAMES[fine]}", "means": GLOSSARY[fine][0],
                   "example": GLOSSARY[fine][1]} for fine in trec.FINE_NAMES if fine.startswith(coarse + ":")]
    return table
