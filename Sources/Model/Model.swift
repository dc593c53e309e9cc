// Model: placeholder until its issue lands.
