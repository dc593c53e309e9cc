import BitsBack

print("bbans: not yet implemented")
