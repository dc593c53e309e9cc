// BitsBack: placeholder until its issue lands.
