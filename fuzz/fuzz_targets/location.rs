#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| oembeddings_fuzz::fuzz_one(oembeddings_fuzz::location, data));
