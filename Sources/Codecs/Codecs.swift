// Codecs: placeholder until its issue lands.
