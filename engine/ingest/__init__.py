"""Reading files into the library: parsers, the chunker, navigation-chunk detection, the
pipeline that stores one file whole or not at all, and the one worker over the queue."""
