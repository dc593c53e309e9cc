// ANS: placeholder until its issue lands.
