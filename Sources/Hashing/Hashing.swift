// Hashing: placeholder until its issue lands.
