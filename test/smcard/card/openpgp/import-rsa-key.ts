// A fixed RSA-2048 key for the OpenPGP import test (generated once with node:crypto; a test key, published here,
// never used by the service): generating a fresh one per run cost that suite up to a second and a half of CPU.

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

const JWK = {
  kty: 'RSA',
  n:
    'qQhDolrRPJ0OCPIErQinfIk3YLt__M7H18dYGu-XFZa7i5D9pX73bl_-xl6jFDgYvd5Y-FJKqTMR4dDy_HBRZSIum7mRKvByFLA3' +
    'FgOEe-3z94up8Sqi5G1w9Md9ZM2C0LmzjUW6AO96zGSkK4ee2Cw9JyMxkcBhYIPlHRqr6zim4CvXVY2MT6gATCwKihMJdCXnIzAc' +
    'FWuxe6LTjptluFNPVxDT52hSSNduYwF5B1oWywkVUH2AZfcMcHkOwcFPsUkOgt9wd5OMyXWm2LG--npOJn-A0mtY0Ymghwe2h7W3' +
    'v9b2ISWlpSeQKzo4Ziyu9Yr9-zTLKseqPvFS2QKhyw',
  e:
    'AQAB',
  d:
    'AyVsENpiOPUZZ5w4RGTmrSrmqiPDSu1_CxVNnq66oARpYuckzs7xWboVWr7fModQGpSdZlMtyulwRJo9iOpURtl0hvcqFw5Y_pPr' +
    'FTtP3M393laDUsGpki6L-C-7C0Rx_LhAJHnZmkkwKXFuxtVO5RTUYeVF98GzbkxLgu0AqdpL2RAm5zuFVAti1mz91ldlx1lELXY7' +
    'e8dli8WLMkyAvJ-aE9CRXG4yLsTW2nkel9QCcqYbW0ZZyIrGsT5vgNbCWkwixMyPeL45q1nAnMRNFiTqvnTYI5OA61yBChQGQlaP' +
    'LS9K_CiCOAf2AJegz1Bfq3ufDqpeQkZzStO7V-ECJQ',
  p:
    '0XUr5YISpypBIB1zyZcmW4BkMMdFBOo75Wa0qACQHDEAwZQGlLD1FClTt49rtuJN--4JOIyRiQnrinoaVcuimd-GbM1v_naCIta_' +
    '3U_aNFgidYO40QqMXijZ4WurDnPGuhDZwO1Pli5eCZJEQaSF2eP1BDReTfrfcEuv5VdOnac',
  q:
    'zpeGr1K-dXMKsyvIUrexgeYbJOjubMGUds5ulD2N2b_GZFTCt1NdUrJ8NAzZSTQi0TzKjjsU17o6DGYhkKUOnYh8I2JCgy8yan3m' +
    '3k6fZgYz-5raSfpiLjWFlaQuK7EgGKKLJUxJaCiTKe5ZLjU2sq5UI8JpTiW4QhOjv6U8hz0',
  dp:
    'E7NFkayOPJLI1VBv14IT5X9J7RyQ7UlqoMTsMPD8nOou_AYEKHAMXP0WFqmyo9zdINjenSb7eTwpnzikyXUBsh9H8WvRIMncq5Iv' +
    'MY2VJF81vn_JHkAzu5d0BrOtvwo8ort6_55SYfmydov_R31F6Zx7Kw4R4Ju78D_uJ0_y4Pk',
  dq:
    'FksDnaewJbxkSzFOTJ7F6N6Lz0_Taqj4_FkKVbTOudCX9_uth1rXlzTrcjJwwBWALFQDB5YYia7u1Kewt4sYKKexvZ-8zasqJZOw' +
    'dgzF5pyEv4HWTGVYcuQTpjIxSUWz0PS5Ty0MPtEiEERIG1RisqVdLv6rnmMznu2_nc6W2YE',
  qi:
    'Hw_615cyijbxfqPoYh9g7d-vsjxCUq2JflC7yoky416xyooHWTv-_b5T5S7TDY5CzEeunzkfxXz9BQ46gvN1h27kgg0ou_Ynez-E' +
    '_it43QXXFPDYngrFD3QbM5S2bc-HVIY_dKN_VGknaBBfjT_vSE6Yg4UwYS5MGVTz2h7LRHc',
};

export const IMPORT_RSA_PRIVATE_KEY: KeyObject = createPrivateKey({ key: JWK, format: 'jwk' });
export const IMPORT_RSA_PUBLIC_KEY: KeyObject = createPublicKey(IMPORT_RSA_PRIVATE_KEY);
