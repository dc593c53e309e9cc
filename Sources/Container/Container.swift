// Container: placeholder until its issue lands.
