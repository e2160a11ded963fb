"""Answer verifiers: final answers of GSM8K and MATH, extracted and compared for equivalence."""
