"""Feature pipelines of the MLPerf Tiny audio reference models (kws01 MFCC, ad01 log-mel).

Pure numpy/scipy functions: audio samples in, feature arrays out. No TensorFlow or librosa.
"""
